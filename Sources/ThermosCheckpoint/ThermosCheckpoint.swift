// ThermosCheckpoint: Aurora-compatible checkpoint streams (RecordIO + Thrift binary),
// the state model, replay with the original's transition rules, and the on-disk layout.
