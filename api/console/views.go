package console

import (
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The config API's answers as the console reads them: only the fields
// pages show. The API's JSON (api/openapi.json) is the contract.

type sourceView struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	Kind         string               `json:"kind"`
	Enabled      bool                 `json:"enabled"`
	Schedule     string               `json:"schedule"`
	Health       storage.SourceHealth `json:"health"`
	RunningRunID string               `json:"runningRunId"`
	LastRun      *lastRunView         `json:"lastRun"`
	NextRuns     []time.Time          `json:"nextRuns"`
	Warnings     []string             `json:"warnings"`
}

type lastRunView struct {
	ID       string            `json:"id"`
	Status   storage.RunStatus `json:"status"`
	Finished *time.Time        `json:"finished"`
}

type runView struct {
	ID            string            `json:"id"`
	SourceID      string            `json:"sourceId"`
	Status        storage.RunStatus `json:"status"`
	Trigger       string            `json:"trigger"`
	Mode          string            `json:"mode"`
	DryRun        bool              `json:"dryRun"`
	Queued        time.Time         `json:"queued"`
	Started       *time.Time        `json:"started"`
	Finished      *time.Time        `json:"finished"`
	Counts        storage.RunCounts `json:"counts"`
	Warnings      int               `json:"warnings"`
	Outcome       string            `json:"outcome"`
	Error         string            `json:"error"`
	Notes         []string          `json:"notes"`
	DecidedBy     string            `json:"decidedBy"`
	ChangeLogSize int               `json:"changeLogSize"`
}

type appView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Counts      *struct {
		Users    int `json:"users"`
		Groups   int `json:"groups"`
		Departed int `json:"departed"`
	} `json:"counts"`
	Push *struct {
		URL          string               `json:"url"`
		Enabled      bool                 `json:"enabled"`
		Health       storage.SourceHealth `json:"health"`
		Waiting      *time.Time           `json:"waitingSince"`
		RunningRunID string               `json:"runningRunId"`
		LastRun      *lastRunView         `json:"lastRun"`
	} `json:"push"`
}
