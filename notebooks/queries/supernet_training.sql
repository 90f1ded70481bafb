-- The supernet's training curve: per epoch, images, mean loss and training accuracy over its averaging rounds,
-- throughput and wall time (supernet-train; PAD-NAS's later stages are supernet_train_2_..., same columns).
-- runs: spos padnas danas ddpnas dsonas
-- columns: epoch, rounds, images, loss, train_accuracy, images_per_second, seconds
SELECT epoch, count(*) AS rounds, sum(images) AS images,
       sum(loss * images) / sum(images) AS loss,
       sum(train_accuracy * images) / sum(images) AS train_accuracy,
       sum(images) / sum(seconds) AS images_per_second,
       sum(seconds) AS seconds
FROM supernet_train_train_metrics
GROUP BY epoch
ORDER BY epoch
