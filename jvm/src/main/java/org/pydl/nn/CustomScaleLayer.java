package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * The scaled residual sum of Keras's InceptionResNetV2 application ({@code
 * keras.applications.inception_resnet_v2.CustomScaleLayer}): inputs {@code [x, r]} of one shape, output
 * {@code x + r * scale}. No weights.
 */
public final class CustomScaleLayer extends Layer {
    public final double scale;

    public CustomScaleLayer(double scale) {
        this.scale = scale;
    }

    public static CustomScaleLayer fromConfig(Map<String, Object> c) {
        return new CustomScaleLayer(Json.getDouble(c, "scale", 1.0));
    }

    @Override
    public String type() {
        return "CustomScaleLayer";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        throw configError("takes two inputs [x, residual]: call it on a list of 2 tensors in a functional Model");
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        if (shapes.size() != 2 || !java.util.Arrays.equals(shapes.get(0), shapes.get(1))) {
            StringBuilder sb = new StringBuilder();
            for (long[] s : shapes) sb.append(sb.length() == 0 ? "" : ", ").append(batchShape(s));
            throw configError("takes two inputs [x, residual] of one shape, received " + shapes.size()
                    + " of shapes " + sb);
        }
        this.inputShape = shapes.get(0).clone();
        this.outputShape = shapes.get(0).clone();
        return shapes.get(0).clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        throw configError("takes two inputs [x, residual]: call it on a list of 2 tensors in a functional Model");
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        return Ops.add(xs.get(0), Ops.mul(xs.get(1), scale));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("scale", scale);
        return c;
    }
}
