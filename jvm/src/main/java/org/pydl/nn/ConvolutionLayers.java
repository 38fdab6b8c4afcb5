package org.pydl.nn;

/**
 * Registers the convolution, pooling, padding, cropping and up-sampling layers (1-D, 2-D and 3-D variants share one
 * class each).
 */
final class ConvolutionLayers {
    private ConvolutionLayers() {}

    static void register() {
        for (int r = 1; r <= 3; r++) {
            final int rank = r;
            Layers.register("Conv" + r + "D", c -> Conv.fromConfig(rank, c));
            Layers.register("Conv" + r + "DTranspose", c -> ConvTranspose.fromConfig(rank, c));
            if (r <= 2) Layers.register("DepthwiseConv" + r + "D", c -> DepthwiseConv.fromConfig(rank, c));
            if (r <= 2) Layers.register("SeparableConv" + r + "D", c -> SeparableConv.fromConfig(rank, c));
            Layers.register("MaxPooling" + r + "D", c -> Pooling.fromConfig(true, rank, c));
            Layers.register("AveragePooling" + r + "D", c -> Pooling.fromConfig(false, rank, c));
            Layers.register("GlobalMaxPooling" + r + "D", c -> GlobalPooling.fromConfig(true, rank, c));
            Layers.register("GlobalAveragePooling" + r + "D", c -> GlobalPooling.fromConfig(false, rank, c));
            for (SpatialResize.Kind k : SpatialResize.Kind.values()) {
                String name = new String[] {"ZeroPadding", "Cropping", "UpSampling"}[k.ordinal()] + r + "D";
                Layers.register(name, c -> SpatialResize.fromConfig(k, rank, c));
            }
        }
    }
}
