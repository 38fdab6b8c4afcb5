package org.pydl.nd;

/** Element types of an {@link NDArray}. The code is what crosses JNI; the descr is NumPy's. */
public enum DType {
    FLOAT32(0, 4, "<f4", "float32"),
    FLOAT64(1, 8, "<f8", "float64"),
    INT32(2, 4, "<i4", "int32");

    public final int code;
    public final int size;
    public final String npyDescr;
    public final String pyName;

    DType(int code, int size, String npyDescr, String pyName) {
        this.code = code;
        this.size = size;
        this.npyDescr = npyDescr;
        this.pyName = pyName;
    }

    public boolean isFloat() {
        return this != INT32;
    }

    /** Parses "float32", "float64", "int32" (NumPy names) or a .npy descr such as "&lt;f4". */
    public static DType of(String name) {
        for (DType d : values()) {
            if (d.pyName.equals(name) || d.npyDescr.equals(name) || d.name().equalsIgnoreCase(name)) return d;
        }
        throw new IllegalArgumentException("unsupported dtype '" + name + "'; pydl arrays are float32, float64 or int32");
    }
}
