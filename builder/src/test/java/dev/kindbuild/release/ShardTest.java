package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShardTest {
    private static List<ReleaseBuild.Target> targets() {
        List<ReleaseBuild.Target> all = new ArrayList<>();
        for (String v : List.of("v1.31.2", "v1.32.0", "v1.33.1")) {
            for (String a : List.of("amd64", "arm64")) {
                all.add(new ReleaseBuild.Target(v, a, "r/node:" + v));
            }
        }
        return all;
    }

    @Test
    void theShardsCoverEveryImageOnceAndAShardIsTheSameEveryTime() {
        for (int n = 1; n <= 8; n++) {
            Set<ReleaseBuild.Target> seen = new HashSet<>();
            int total = 0;
            for (int i = 1; i <= n; i++) {
                List<ReleaseBuild.Target> mine = new Shard(i, n).select(targets());
                assertEquals(mine, Shard.parse(i + "/" + n).select(targets()), "stable");
                seen.addAll(mine);
                total += mine.size();
            }
            assertEquals(targets().size(), total, n + " shards: no image twice");
            assertEquals(Set.copyOf(targets()), seen, n + " shards: every image");
        }
        assertEquals(List.of(), new Shard(7, 7).select(targets()), "more shards than images: the last ones have none");
        assertEquals(targets(), Shard.ALL.select(targets()));
    }

    @Test
    void aMalformedShardIsOneLine() {
        for (String bad : List.of("0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "")) {
            UserError e = assertThrows(UserError.class, () -> Shard.parse(bad));
            assertTrue(e.getMessage().startsWith("--shard ") && e.getMessage().contains("I/N"), e.getMessage());
        }
    }
}
