package console

import "github.com/scimgate/scimgate/storage"

// changeWords are a change log's actions in words.
// (The run pages, helper uiruns, define the same in views_runs.go; when
// both are on main this file goes.)
var changeWords = map[string]string{
	storage.ChangeCreate: "Created", storage.ChangeUpdate: "Updated", storage.ChangeReactivate: "Reactivated",
	storage.ChangeDeactivate: "Deactivated", storage.ChangeDelete: "Deleted", storage.ChangeConflict: "Conflict",
	storage.ChangeError: "Error", storage.ChangeUnresolved: "Unresolved reference",
}

func changeWord(action string) string {
	if w, ok := changeWords[action]; ok {
		return w
	}
	return action
}
