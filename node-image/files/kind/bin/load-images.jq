# kind-build: reads the unpacked per-image archives for load-images.sh in one jq run.
# Input: every archive's index.json and blobs, as `jq -n -r -f load-images.jq FILES...`; an archive unpacked into
# DIR/<i>/ is known by <i>. Output: one tab-separated line per archive:
#   <i> ok <names, comma-separated> <manifest digest> <blobs "digest size" ;-separated: manifest, config, layers> <layers, same form> <index entries as JSON, comma-separated>
#   <i> bad <why>
(reduce inputs as $d ({}; .[input_filename] = $d)) as $f
| $f | keys[] | select(endswith("/index.json")) as $ix
| ($ix | rtrimstr("/index.json") | split("/") | last) as $i
| ($ix | rtrimstr("index.json") + "blobs/sha256/") as $blobs
| try (
    $f[$ix] as $index
    | ([$index.manifests[].annotations["io.containerd.image.name"] // empty]) as $names
    | ($index.manifests[0] // {}) as $entry
    | ($entry.digest // "") as $m
    | if ($names | length) == 0 then error("index.json names no image")
      elif ($m | startswith("sha256:") | not) or $f[$blobs + $m[7:]] == null
      then error("index.json does not point at a manifest in the archive")
      else $f[$blobs + $m[7:]] as $manifest
      | ([$manifest.layers[] | "\(.digest) \(.size)"] | join(";")) as $layers
      | [$i, "ok", ($names | join(",")), $m,
         (["\($m) \($entry.size)", "\($manifest.config.digest) \($manifest.config.size)"] | join(";")) + ";" + $layers,
         $layers,
         ($index.manifests | map(tojson) | join(","))] | join("\t")
      end
  ) catch ([$i, "bad", tostring] | join("\t"))
