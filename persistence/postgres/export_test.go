package postgres

// QueuedSaves returns how many saves wait in r's group commit queue.
func QueuedSaves(r *Recorder) int { return r.group.group.Queued() }
