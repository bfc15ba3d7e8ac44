package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// The -app scenarios read through an application's token: an app whose
// scope filter holds the first fifth of the loaded users (employeeNumber
// below E<users/5>, spread over every department), created with the config
// API as an admin would (POST /api/v1/apps, then POST
// /api/v1/apps/{id}/tokens), with the example allow-list.

// appAttributes is the allow-list of the load's app (issue 15's example).
var appAttributes = []string{"userName", "name", "emails", "active", "title",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}

// appViewSize is how many of the loaded users the load's app sees.
func appViewSize(users int) int { return max(users/5, 1) }

// adminToken opens the database and adds an admin token for the config API.
func adminToken(ctx context.Context, db string) (string, error) {
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		return "", err
	}
	defer store.Close()
	bearer, tok, err := api.NewToken(fmt.Sprintf("load-admin-%d", time.Now().UnixNano()), storage.RoleAdmin, time.Now())
	if err != nil {
		return "", err
	}
	if _, err := store.CreateToken(ctx, tok); err != nil {
		return "", err
	}
	return bearer, nil
}

// createApp creates the load's app through the config API of the server at
// addr and returns the bearer of a new token bound to it.
func createApp(ctx context.Context, addr, admin string, users int) (string, error) {
	name := fmt.Sprintf("load-%d", time.Now().UnixNano())
	app := map[string]any{
		"name":        name,
		"description": "scimgate-load: a fifth of the directory",
		"scope": map[string]any{
			"filter": fmt.Sprintf(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber lt "E%06d"`, appViewSize(users)),
		},
		"attributes": appAttributes,
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := postJSON(ctx, "http://"+addr+"/api/v1/apps", admin, app, &created); err != nil {
		return "", fmt.Errorf("create the app: %w", err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := postJSON(ctx, "http://"+addr+"/api/v1/apps/"+created.ID+"/tokens", admin, map[string]any{"name": name}, &tok); err != nil {
		return "", fmt.Errorf("create the app's token: %w", err)
	}
	if tok.Token == "" {
		return "", fmt.Errorf("the app's token came back without its secret")
	}
	return tok.Token, nil
}

// postJSON posts body as JSON with an admin bearer and decodes a 201 into out.
func postJSON(ctx context.Context, url, bearer string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %s: %s", url, res.Status, b)
	}
	return json.Unmarshal(b, out)
}
