-- A run's method comparison (its report's line, and those of the runs named by report --compare): search time and
-- CPU-hours, evaluations, the best architecture with its retrained test accuracy, size and cost. The notebook stacks
-- the lines of several runs.
-- runs: spos padnas danas ddpnas dsonas
-- columns: run, method, search_seconds, search_cpu_hours, evaluations, front_size, best_supernet_accuracy, best_arch, test_accuracy, mparams, mflops, kendall_tau
SELECT run, method, search_seconds, search_cpu_hours, evaluations, front_size, best_supernet_accuracy, best_arch, test_accuracy,
       mparams, mflops, kendall_tau
FROM report{chain}_summary
ORDER BY run
