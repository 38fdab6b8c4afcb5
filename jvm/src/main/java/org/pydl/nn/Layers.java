package org.pydl.nn;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import org.pydl.io.Json;

/**
 * The one registry of layer classes by Keras class name, used by model files and by Python. Each family of layers
 * registers its classes in its own {@code register()} ({@link CoreLayers}, {@link ConvolutionLayers},
 * {@link ActivationLayers},
 * {@link NormalizationLayers}, {@link RecurrentLayers}), so adding a layer touches its family file only.
 */
public final class Layers {
    private static final Map<String, Function<Map<String, Object>, Layer>> REGISTRY = new TreeMap<>();

    static {
        CoreLayers.register();
        ConvolutionLayers.register();
        ActivationLayers.register();
        NormalizationLayers.register();
        RecurrentLayers.register();
        AttentionLayers.register();
        PreprocessingLayers.register();
    }

    private Layers() {}

    /** Registers a factory from config for a Keras class name (called by the family files). */
    static void register(String type, Function<Map<String, Object>, Layer> fromConfig) {
        if (REGISTRY.put(type, fromConfig) != null) throw new IllegalStateException("layer " + type + " registered twice");
    }

    public static Layer fromConfig(String type, Map<String, Object> config) {
        Function<Map<String, Object>, Layer> f = REGISTRY.get(type);
        if (f == null) {
            throw new IllegalArgumentException("unknown layer class '" + type + "'; this pydl knows " + REGISTRY.keySet());
        }
        Layer l = f.apply(config);
        l.setName(Json.getString(config, "name", null));
        l.readWeightOptions(config);
        if (!Json.getBoolean(config, "trainable", true)) l.setTrainableOnBuild(false);
        return l;
    }
}
