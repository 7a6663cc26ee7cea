package loadtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// CheckOutputs verifies that a sweep's output directory holds the four
// files and that they agree: the CSV summary and runs are the JSON's, the
// summary is what the runs give, and the chart has a line for every
// scenario and a tick for every pool size.
func CheckOutputs(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := ReadJSON(filepath.Join(dir, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, PointsCSV))
	if err != nil {
		t.Fatal(err)
	}
	points, err := ReadPointsCSV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(points, rep.Points) {
		t.Errorf("%s and %s disagree:\n%+v\n%+v", PointsCSV, ReportJSON, points, rep.Points)
	}
	f, err = os.Open(filepath.Join(dir, RunsCSV))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ReadRunsCSV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(runs, rep.Runs) {
		t.Errorf("%s and %s disagree", RunsCSV, ReportJSON)
	}
	if !reflect.DeepEqual(Summarize(runs), points) {
		t.Errorf("the summary is not what the runs give")
	}
	svg, err := os.ReadFile(filepath.Join(dir, ChartSVG))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		label := p.Scenario
		if p.Workers == 0 {
			label = "0 (inline)"
		}
		if !strings.Contains(string(svg), ">"+label+"<") && !strings.Contains(string(svg), ">"+strconv.Itoa(p.Workers)+"<") {
			t.Errorf("chart has no label %q", label)
		}
		if !strings.Contains(string(svg), p.Scenario) {
			t.Errorf("chart has no line for %s", p.Scenario)
		}
	}
	return rep
}
