-- How much the reference networks agree on which classes are easy (DA-NAS Observation 3).
-- runs: danas
-- columns: network_a, network_b, spearman, kendall_tau
SELECT network_a, network_b, spearman, kendall_tau
FROM easiness_network_agreement
ORDER BY network_a, network_b
