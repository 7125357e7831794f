"""Generated inputs shared by the tests and the benchmarks: clips with known motion (``motion_clips``), phone-like
footage (``realistic_clips``), rescaled checkpoints (``checkpoints``) and the demo media (``make_samples``).
Neither the package nor the command line imports them."""
