package org.pydl.nn;

import java.util.Map;

import org.pydl.io.Json;

/** Builds layers from their model-file config: the one registry of layer classes by Keras class name. */
public final class Layers {
    private Layers() {}

    public static Layer fromConfig(String type, Map<String, Object> config) {
        Layer l;
        switch (type) {
            case "Dense": l = Dense.fromConfig(config); break;
            case "Dropout": l = Dropout.fromConfig(config); break;
            case "Activation": l = ActivationLayer.fromConfig(config); break;
            default:
                throw new IllegalArgumentException("unknown layer class '" + type + "'; this pydl knows Dense, Dropout, "
                        + "Activation");
        }
        l.setName(Json.getString(config, "name", null));
        if (!Json.getBoolean(config, "trainable", true)) l.setTrainableOnBuild(false);
        return l;
    }
}
