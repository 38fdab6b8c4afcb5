package org.pydl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;

class DataSetTest {
    private static Object roundTrip(Object o) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }

    @Test
    void javaSerializationCarriesValuesShapesAndDtypes() throws Exception {
        NDArray x = NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        NDArray x2 = NDArray.of(new double[] {0.5, -1.5, 2.25}, 3, 1);
        NDArray y = NDArray.of(new int[] {2, 0, 1}, 3);
        DataSet d = new DataSet(List.of(x, x2), List.of(y));
        DataSet back = (DataSet) roundTrip(d);
        assertEquals(2, back.featureList().size());
        assertEquals(1, back.labelList().size());
        assertArrayEquals(new long[] {3, 2}, back.features().shape());
        assertArrayEquals(x.toFloatArray(), back.features().toFloatArray());
        assertEquals(DType.FLOAT64, back.featureList().get(1).dtype());
        assertArrayEquals(x2.toDoubleArray(), back.featureList().get(1).toDoubleArray());
        assertEquals(DType.INT32, back.labels().dtype());
        assertArrayEquals(y.toDoubleArray(), back.labels().toDoubleArray());
    }

    @Test
    void aSlicedViewTravelsAsItsOwnRows() throws Exception {
        NDArray x = NDArray.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
        NDArray y = NDArray.of(new int[] {0, 1, 2, 3}, 4);
        DataSet back = (DataSet) roundTrip(new DataSet(x, y).slice(1, 3));
        assertArrayEquals(new float[] {3, 4, 5, 6}, back.features().toFloatArray());
        assertArrayEquals(new double[] {1, 2}, back.labels().toDoubleArray());
    }

    @Test
    void theClassItselfIsNeverDeserializedDirectly() {
        // a stream naming DataSet (not its serial form) is refused rather than yielding arrays without memory
        assertThrows(InvalidObjectException.class, () -> {
            java.lang.reflect.Method m = DataSet.class.getDeclaredMethod("readObject", ObjectInputStream.class);
            m.setAccessible(true);
            try {
                m.invoke(new DataSet(NDArray.of(new float[] {1}, 1, 1), NDArray.of(new int[] {0}, 1)),
                        (ObjectInputStream) null);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }
}
