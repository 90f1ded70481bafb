-- DA-NAS's class easiness (DA-NAS section 4, Eq. 1-3): classes easiest first, with their names and the reference
-- networks' mean test accuracy on each.
-- runs: danas
-- columns: rank, class_index, name, score, mean_test_accuracy
SELECT e.rank, e.class_index, c.name, e.score, a.mean_test_accuracy
FROM easiness_class_easiness e
JOIN ingest_classes c ON c.index = e.class_index
JOIN (SELECT class_index, avg(test_accuracy) AS mean_test_accuracy FROM easiness_network_accuracy GROUP BY class_index) a
  ON a.class_index = e.class_index
ORDER BY e.rank
