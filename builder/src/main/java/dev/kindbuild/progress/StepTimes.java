package dev.kindbuild.progress;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Passes events on and keeps how long each succeeded step took, for a build's result. */
public final class StepTimes implements Progress {
    private final Progress next;
    private final Map<String, Double> seconds = Collections.synchronizedMap(new LinkedHashMap<>());

    public StepTimes(Progress next) {
        this.next = next;
    }

    @Override
    public void emit(BuildEvent event) {
        if (event instanceof BuildEvent.StepSucceeded s) {
            seconds.put(s.step(), s.took().toMillis() / 1000.0);
        }
        next.emit(event);
    }

    /** Step name → seconds, in the order the steps ended. */
    public Map<String, Double> seconds() {
        synchronized (seconds) {
            return new LinkedHashMap<>(seconds);
        }
    }
}
