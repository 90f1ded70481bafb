-- The constrained search's Pareto front (SPOS, PAD-NAS): supernet val accuracy against cost, cheapest first.
-- runs: spos padnas
-- columns: arch, cost, mflops, mparams, latency_ms, accuracy
SELECT arch, cost, mflops, mparams, latency_ms, accuracy
FROM search{chain}_pareto_front
ORDER BY cost, accuracy DESC
