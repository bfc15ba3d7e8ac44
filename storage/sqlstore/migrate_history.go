package sqlstore

// historyVersion indexes the change logs by resource, so a user's or
// group's page finds its recent changes without scanning every run's log
// (RunStore.ResourceChanges).
const historyVersion = 12

var historySchema = []string{
	`CREATE INDEX run_changes_resource ON run_changes(resource_id)`,
	`CREATE INDEX push_changes_resource ON push_changes(resource_id)`,
}
