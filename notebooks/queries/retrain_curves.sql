-- The retrained models' curves: loss and val accuracy after every epoch.
-- runs: spos padnas danas ddpnas dsonas
-- columns: model, epoch, loss, val_accuracy, learning_rate, images_per_second
SELECT model, epoch, loss, val_accuracy, learning_rate, images_per_second
FROM retrain{chain}_retrain_metrics
ORDER BY model, epoch
