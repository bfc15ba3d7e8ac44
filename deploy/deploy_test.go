// Package deploy holds deployment manifests; its test keeps them valid.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// manifest is the part of a Kubernetes object the test checks.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas int `yaml:"replicas"`
		Template struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Env []struct {
		Name      string `yaml:"name"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe probe `yaml:"readinessProbe"`
	LivenessProbe  probe `yaml:"livenessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

func TestKubernetesManifests(t *testing.T) {
	data, err := os.ReadFile("kubernetes/scimgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]manifest{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var m manifest
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse: %v", err)
		}
		objects[m.Kind] = m
	}
	for _, kind := range []string{"Secret", "Deployment", "Service", "PodDisruptionBudget"} {
		if _, ok := objects[kind]; !ok {
			t.Errorf("no %s in the manifests", kind)
		}
	}
	secret := objects["Secret"]
	for _, key := range []string{"db", "secret-key"} {
		if _, ok := secret.StringData[key]; !ok {
			t.Errorf("Secret lacks %q", key)
		}
	}
	d := objects["Deployment"]
	if d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", d.Spec.Replicas)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(d.Spec.Template.Spec.Containers))
	}
	c := d.Spec.Template.Spec.Containers[0]
	fromSecret := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret.Metadata.Name {
			fromSecret[e.Name] = e.ValueFrom.SecretKeyRef.Key
		}
	}
	want := map[string]string{"SCIMGATE_DB": "db", "SCIMGATE_SECRET_KEY": "secret-key"}
	for env, key := range want {
		if fromSecret[env] != key {
			t.Errorf("%s comes from secret key %q, want %q", env, fromSecret[env], key)
		}
	}
	if got := c.ReadinessProbe.HTTPGet.Path; got != "/readyz" {
		t.Errorf("readiness probe path = %q, want /readyz", got)
	}
	if got := c.LivenessProbe.HTTPGet.Path; got != "/healthz" {
		t.Errorf("liveness probe path = %q, want /healthz", got)
	}
}
