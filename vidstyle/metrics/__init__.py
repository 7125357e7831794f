"""How good a stylized video is, measured on what the user gets: the warping error against the input's own
(``warping``, Ruder et al. 2016), the look over time -- style strength and content fidelity under one fixed
network (``look``) -- and the warping error around a distributed run's seams against the interior's
(``seams``). Used by ``vidstyle metrics``, the benchmarks and the Ray report; it stylizes nothing itself."""
