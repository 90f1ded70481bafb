-- Images per split and class, with class names: what ingest produced.
-- runs: spos padnas danas ddpnas dsonas
-- columns: index, name, split, images
SELECT c.index, c.name, i.split, count(*) AS images
FROM ingest_images i JOIN ingest_classes c ON i.class_index = c.index
GROUP BY c.index, c.name, i.split
ORDER BY c.index, i.split
