"""The phone-like clips now live in samples/realistic_clips.py; this name stays for benchmarks/bench_stability.py
until it imports them from there."""
from samples.realistic_clips import REALISTIC_KINDS, make_realistic_clip, realistic_frames  # noqa: F401
