// Command oracle answers questions about tags, ranges, regexes and commit
// templates by calling the code Flux itself calls, so the property tests can
// compare gitops-action's answers with upstream's.
//
// It reads one JSON request per line on stdin and writes one JSON answer per
// line on stdout, until stdin closes. Requests:
//
//	{"op":"version","tag":T}                  fluxcd/pkg/version.ParseVersion
//	{"op":"constraint","range":R}             semver.NewConstraint
//	{"op":"check","range":R,"tags":[T...]}    Constraints.Check per parsed tag
//	{"op":"latest","range":R,"tags":[T...]}   the semver policy's Latest
//	{"op":"regex","pattern":P,"extract":E,"tags":[T...]}
//	                                          regexp.Compile, the filterTags
//	                                          match and Regexp.ExpandString
//	{"op":"template","template":S,"data":D}   text/template with
//	                                          sprig.HermeticTxtFuncMap
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/template"

	"github.com/Masterminds/semver/v3"
	"github.com/Masterminds/sprig/v3"
	"github.com/fluxcd/pkg/version"
)

type request struct {
	Op       string         `json:"op"`
	Tag      string         `json:"tag"`
	Range    string         `json:"range"`
	Tags     []string       `json:"tags"`
	Pattern  string         `json:"pattern"`
	Extract  string         `json:"extract"`
	Template string         `json:"template"`
	Data     map[string]any `json:"data"`
}

type answer map[string]any

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		var ans answer
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			ans = answer{"ok": false, "error": "bad request: " + err.Error()}
		} else {
			ans = handle(req)
		}
		if err := enc.Encode(ans); err != nil {
			fmt.Fprintln(os.Stderr, "oracle:", err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
}

func handle(req request) (ans answer) {
	defer func() {
		if r := recover(); r != nil {
			ans = answer{"ok": false, "panic": fmt.Sprint(r)}
		}
	}()
	switch req.Op {
	case "version":
		return parseVersion(req.Tag)
	case "constraint":
		if _, err := semver.NewConstraint(req.Range); err != nil {
			return answer{"ok": false, "error": err.Error()}
		}
		return answer{"ok": true}
	case "check":
		return check(req.Range, req.Tags)
	case "latest":
		return latest(req.Range, req.Tags)
	case "regex":
		return filter(req.Pattern, req.Extract, req.Tags)
	case "template":
		return render(req.Template, req.Data)
	}
	return answer{"ok": false, "error": "unknown op " + req.Op}
}

func parseVersion(tag string) answer {
	v, err := version.ParseVersion(tag)
	if err != nil {
		return answer{"ok": false, "error": err.Error()}
	}
	return answer{
		"ok": true, "major": v.Major(), "minor": v.Minor(), "patch": v.Patch(),
		"prerelease": v.Prerelease(), "metadata": v.Metadata(), "string": v.String(),
	}
}

func check(r string, tags []string) answer {
	c, err := semver.NewConstraint(r)
	if err != nil {
		return answer{"ok": false, "error": err.Error()}
	}
	results := make([]any, len(tags))
	for i, tag := range tags {
		if v, err := version.ParseVersion(tag); err == nil {
			results[i] = c.Check(v)
		}
	}
	return answer{"ok": true, "results": results}
}

// latest picks as image-reflector-controller's semver policy does: the first
// parsed tag inside the range that no later tag is strictly greater than.
func latest(r string, tags []string) answer {
	c, err := semver.NewConstraint(r)
	if err != nil {
		return answer{"ok": false, "error": err.Error()}
	}
	var best *semver.Version
	for _, tag := range tags {
		if v, err := version.ParseVersion(tag); err == nil {
			if c.Check(v) && (best == nil || v.GreaterThan(best)) {
				best = v
			}
		}
	}
	if best == nil {
		return answer{"ok": true, "selected": nil}
	}
	return answer{"ok": true, "selected": best.Original()}
}

// filter answers per tag: null when the pattern does not match, else the
// value the policy compares (the tag, or the expanded extract template).
func filter(pattern, extract string, tags []string) answer {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return answer{"ok": false, "error": err.Error()}
	}
	results := make([]any, len(tags))
	for i, tag := range tags {
		if m := re.FindStringSubmatchIndex(tag); len(m) > 0 {
			value := tag
			if extract != "" {
				value = string(re.ExpandString(nil, extract, tag, m))
			}
			results[i] = value
		}
	}
	return answer{"ok": true, "results": results}
}

func render(text string, data map[string]any) answer {
	t, err := template.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Parse(text)
	if err != nil {
		return answer{"ok": false, "stage": "parse", "error": err.Error()}
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return answer{"ok": false, "stage": "exec", "error": err.Error(), "output": b.String()}
	}
	return answer{"ok": true, "output": b.String()}
}
