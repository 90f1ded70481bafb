-- The architecture parameters per layer and epoch (DA-NAS logits and probabilities, DDPNAS theta, DSO-NAS lambda),
-- with the ops pruned so far: the data of the distribution / lambda evolution charts.
-- runs: danas ddpnas dsonas
-- columns: method, kind, layer, op, epoch, value
SELECT method, kind, layer, op, epoch, value
FROM supernet_train_arch_params
WHERE kind <> 'pruned'
ORDER BY kind, layer, op, epoch
