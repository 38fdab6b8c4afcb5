package org.pydl.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-epoch metrics of a fit: {@code history().get("val_accuracy").get(epoch)}, like Keras's History. */
public final class History implements TrainingListener {
    private final Map<String, List<Double>> history = new LinkedHashMap<>();

    @Override
    public void onEpochEnd(int epoch, Map<String, Double> logs) {
        for (Map.Entry<String, Double> e : logs.entrySet()) {
            history.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue());
        }
    }

    public Map<String, List<Double>> history() {
        return history;
    }

    public List<Double> get(String metric) {
        List<Double> v = history.get(metric);
        if (v == null) throw new IllegalArgumentException("no metric '" + metric + "' in history " + history.keySet());
        return v;
    }

    public int epochs() {
        return history.isEmpty() ? 0 : history.values().iterator().next().size();
    }

    @Override
    public String toString() {
        return "History" + history;
    }
}
