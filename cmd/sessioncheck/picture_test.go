package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplorePictureStructure runs explore on a variant it catches and
// reads the drawn counterexample back: linked from index.html and
// results.json, well-formed XML with no external resource, a lane per
// client, a text per file-system call, a switch point and the refusal.
func TestExplorePictureStructure(t *testing.T) {
	out := t.TempDir()
	r := sessioncheck(t, "-store", "check-then-rename", "-check", "explore", "-seed", "1", "-out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc jsonReport
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != 1 || doc.Results[0].Picture == "" {
		t.Fatalf("no picture in results.json:\n%s", b)
	}
	pic := doc.Results[0].Picture
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), `href="`+pic+`"`) {
		t.Fatalf("index.html does not link %s", pic)
	}
	svg, err := os.ReadFile(filepath.Join(out, pic))
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		XMLName xml.Name
		Groups  []struct {
			Class string `xml:"class,attr"`
		} `xml:"g"`
		Texts []struct {
			Class string `xml:"class,attr"`
		} `xml:"text"`
		Lines []struct {
			Class string `xml:"class,attr"`
		} `xml:"line"`
	}
	if err := xml.Unmarshal(svg, &root); err != nil || root.XMLName.Local != "svg" {
		t.Fatalf("not an SVG document (%v):\n%s", err, svg)
	}
	count := map[string]int{}
	for _, g := range root.Groups {
		count[g.Class]++
	}
	for _, x := range root.Texts {
		count[x.Class]++
	}
	for _, l := range root.Lines {
		count[l.Class]++
	}
	if count["lane"] < 2 || count["op"] < 2 || count["call"] < 2 || count["switch"] < 1 || count["refusal"] != 1 {
		t.Fatalf("picture structure %v: want ≥2 lanes, ops and calls, ≥1 switch, 1 refusal", count)
	}
	s := string(svg)
	if strings.Contains(s, "href") || strings.Contains(s, "<script") || strings.Count(s, "http") != 1 {
		t.Fatalf("picture refers to something outside itself:\n%s", s)
	}
}
