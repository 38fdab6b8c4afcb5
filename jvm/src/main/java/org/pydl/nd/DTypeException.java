package org.pydl.nd;

/** An array of the wrong element type was passed (Python sees it as TypeError). */
public class DTypeException extends IllegalArgumentException {
    public DTypeException(String message) {
        super(message);
    }
}
