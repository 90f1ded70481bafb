-- How the search's population moved: per generation, feasible members, best and mean supernet accuracy, cost range.
-- runs: spos padnas
-- columns: generation, members, feasible, best_accuracy, mean_accuracy, min_cost, max_cost
SELECT generation, count(*) AS members, sum(cast(feasible AS INT)) AS feasible,
       max(accuracy) AS best_accuracy, avg(accuracy) AS mean_accuracy, min(cost) AS min_cost, max(cost) AS max_cost
FROM search{chain}_candidates
GROUP BY generation
ORDER BY generation
