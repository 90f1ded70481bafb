-- The architectures a read-off or generation method output (DA-NAS: argmax; DDPNAS: one per constraint; DSO-NAS:
-- non-zero lambdas), each with its retrained test accuracy.
-- runs: danas ddpnas dsonas
-- columns: arch, constraint, chosen_by, mflops, mparams, supernet_accuracy, test_accuracy
SELECT g.arch, g.constraint, g.chosen_by, g.mflops, g.mparams, g.accuracy AS supernet_accuracy, f.test_accuracy
FROM search{chain}_generated_archs g LEFT JOIN retrain{chain}_final_models f ON f.arch = g.arch
ORDER BY g.mflops
