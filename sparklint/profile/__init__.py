"""Run profiles: Spark event logs and History Server runs read into a profile model, and
matched to static findings as measured evidence. Optional decompressors (zstandard, lz4,
cramjam) are imported only when a log needs them."""
