package dev.kindbuild.testing;

import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.ConsoleProgress;
import dev.kindbuild.progress.Progress;
import java.util.ArrayList;
import java.util.List;

/** Keeps every event for assertions and also prints them, so a failing integration test shows what happened. */
public final class RecordingProgress implements Progress {
    private final List<BuildEvent> events = new ArrayList<>();
    private final Progress console = new ConsoleProgress(System.err, false, false);

    @Override
    public synchronized void emit(BuildEvent event) {
        events.add(event);
        console.emit(event);
    }

    public synchronized List<BuildEvent> events() {
        return List.copyOf(events);
    }

    /** Notes of the steps that succeeded, as "step (note)". */
    public synchronized List<String> succeeded() {
        return events.stream().filter(e -> e instanceof BuildEvent.StepSucceeded)
                .map(e -> (BuildEvent.StepSucceeded) e).map(s -> s.step() + " (" + s.note() + ")").toList();
    }

    public synchronized List<String> notices() {
        return events.stream().filter(e -> e instanceof BuildEvent.Notice).map(e -> ((BuildEvent.Notice) e).line()).toList();
    }
}
