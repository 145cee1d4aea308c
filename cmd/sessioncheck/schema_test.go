package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// validate checks doc against the subset of JSON Schema that
// docs/results.schema.json uses (type, const, enum, required, properties,
// items, minimum), so the test needs no schema library. A keyword outside
// that subset is an error, so the schema cannot grow a rule this
// validator silently ignores.
func validate(schema map[string]any, doc any, path string) error {
	for k := range schema {
		switch k {
		case "$schema", "$id", "title", "description", "type", "const", "enum", "required", "properties", "items", "minimum":
		default:
			return fmt.Errorf("%s: schema keyword %q is not supported by this validator", path, k)
		}
	}
	if c, ok := schema["const"]; ok && c != doc {
		return fmt.Errorf("%s: %v, want %v", path, doc, c)
	}
	if e, ok := schema["enum"].([]any); ok && !slices.Contains(e, doc) {
		return fmt.Errorf("%s: %v is not one of %v", path, doc, e)
	}
	if t, ok := schema["type"].(string); ok {
		okType := false
		switch t {
		case "object":
			_, okType = doc.(map[string]any)
		case "array":
			_, okType = doc.([]any)
		case "string":
			_, okType = doc.(string)
		case "number":
			_, okType = doc.(float64)
		case "integer":
			f, isNum := doc.(float64)
			okType = isNum && f == math.Trunc(f)
		default:
			return fmt.Errorf("%s: type %q not supported", path, t)
		}
		if !okType {
			return fmt.Errorf("%s: %T, want %s", path, doc, t)
		}
	}
	if m, ok := schema["minimum"].(float64); ok {
		if f, isNum := doc.(float64); isNum && f < m {
			return fmt.Errorf("%s: %v below minimum %v", path, f, m)
		}
	}
	if obj, ok := doc.(map[string]any); ok {
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: missing required %q", path, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, v := range obj {
			sub, ok := props[k].(map[string]any)
			if !ok {
				continue
			}
			if err := validate(sub, v, path+"."+k); err != nil {
				return err
			}
		}
	}
	if arr, ok := doc.([]any); ok {
		if sub, ok := schema["items"].(map[string]any); ok {
			for i, v := range arr {
				if err := validate(sub, v, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "results.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("docs/results.schema.json: %v", err)
	}
	if c, _ := s["properties"].(map[string]any)["schema"].(map[string]any)["const"].(string); c != resultsSchema {
		t.Fatalf("docs/results.schema.json pins %q, the command writes %q", c, resultsSchema)
	}
	return s
}

func validateJSON(t *testing.T, schema map[string]any, b []byte) error {
	t.Helper()
	var doc any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return validate(schema, doc, "$")
}

// TestResultsMatchSchema validates the command's real output, both the
// report's results.json and -json on stdout, against docs/results.schema.json,
// over results of several kinds: pass, caught (with work and files), and
// skipped (no work).
func TestResultsMatchSchema(t *testing.T) {
	schema := loadSchema(t)
	out := t.TempDir()
	r := sessioncheck(t, "-store", "reference,write-in-place", "-check", "lin-processes,faults", "-budget", "0.2", "-seed", "7", "-out", out, "-json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	file, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"results.json": file, "stdout": []byte(r.stdout)} {
		if err := validateJSON(t, schema, b); err != nil {
			t.Errorf("%s does not match docs/results.schema.json: %v", name, err)
		}
		if !strings.Contains(string(b), `"caught"`) || !strings.Contains(string(b), `"work"`) {
			t.Errorf("%s holds no caught result with work: the test checked too little", name)
		}
	}
	// A skipped result (no work object) is valid too.
	skipped, _ := json.Marshal(jsonReport{Schema: resultsSchema, Results: []result{{Store: "worker:x", Check: "faults", Verdict: "skipped", Expected: "pass", Status: "skipped"}}})
	if err := validateJSON(t, schema, skipped); err != nil {
		t.Errorf("skipped result: %v", err)
	}
}

// TestSchemaRejectsBrokenResults shows the validator and schema can fail:
// each document breaks one rule.
func TestSchemaRejectsBrokenResults(t *testing.T) {
	schema := loadSchema(t)
	good := `{"store":"s","check":"c","verdict":"pass","expected":"pass","status":"pass","seed":1,"operations":2,"histories":3,"seconds":0.5,"detail":"","visualization":"","counterexample":""}`
	if err := validateJSON(t, schema, []byte(`{"schema":"sessioncheck/results/v1","results":[`+good+`]}`)); err != nil {
		t.Fatalf("a good document was refused: %v", err)
	}
	for name, doc := range map[string]string{
		"bare array (before v1)": `[` + good + `]`,
		"no schema":              `{"results":[]}`,
		"other version":          `{"schema":"sessioncheck/results/v2","results":[]}`,
		"unknown verdict":        `{"schema":"sessioncheck/results/v1","results":[` + strings.Replace(good, `"verdict":"pass"`, `"verdict":"ok"`, 1) + `]}`,
		"missing field":          `{"schema":"sessioncheck/results/v1","results":[` + strings.Replace(good, `"seed":1,`, ``, 1) + `]}`,
		"fractional count":       `{"schema":"sessioncheck/results/v1","results":[` + strings.Replace(good, `"operations":2`, `"operations":2.5`, 1) + `]}`,
		"negative seconds":       `{"schema":"sessioncheck/results/v1","results":[` + strings.Replace(good, `"seconds":0.5`, `"seconds":-1`, 1) + `]}`,
		"work missing units":     `{"schema":"sessioncheck/results/v1","results":[` + strings.Replace(good, `"seed":1`, `"seed":1,"work":{"unit":"x"}`, 1) + `]}`,
	} {
		if err := validateJSON(t, schema, []byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
