package integration

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// promQLUse is what a PromQL expression needs a /metrics endpoint to serve:
// the metrics it selects, with the label names of their matchers, and the
// label names it groups or matches on (by, without, on, ignoring,
// group_left, group_right).
//
// scanPromQL finds them by scanning the expression rather than parsing it:
// Prometheus's own parser would bring github.com/prometheus/prometheus and
// its dependencies into crddemo's module. An identifier is a metric name
// unless it is a keyword, an aggregation or a function (followed by "("), or
// sits in a string, a duration or a label list. That is all the grammar
// that telling them apart takes.
type promQLUse struct {
	selectors []promQLSelector
	grouping  []string
}

type promQLSelector struct {
	metric string
	labels []string
	// equal holds the values of its = matchers as written, escapes
	// included, but for Grafana's variables.
	equal map[string]string
}

// promQLGroupingKeywords take a parenthesized list of label names.
var promQLGroupingKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// promQLWords are keywords and aggregations: never a metric name, even
// when no "(" follows, as in "sum by (le) (...)" or "a and b".
var promQLWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
	"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

// scanPromQL returns what expr selects. It also accepts Grafana's template
// variables ($job, ${job}, $__rate_interval), which it skips. A selector
// without a metric name, such as {__name__=~"..."}, is an error: the metrics
// it reads cannot be checked.
func scanPromQL(expr string) (promQLUse, error) {
	var use promQLUse
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // A comment, to the end of the line.
			if end := strings.IndexByte(s[i:], '\n'); end >= 0 {
				i += end + 1
			} else {
				i = len(s)
			}
		case c == '"' || c == '\'' || c == '`':
			end, err := skipPromQLString(s, i)
			if err != nil {
				return use, err
			}
			i = end
		case c == '[': // A range or subquery: durations and variables only.
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return use, fmt.Errorf("unclosed [ at offset %d", i)
			}
			i += end + 1
		case c == '$':
			i++
			if i < len(s) && s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return use, fmt.Errorf("unclosed ${ at offset %d", i)
				}
				i += end + 1
			}
			for i < len(s) && isPromQLIdentChar(s[i]) {
				i++
			}
		case c == '{':
			return use, fmt.Errorf("a selector without a metric name at offset %d", i)
		case c >= '0' && c <= '9' || c == '.':
			// A number or a duration (5m, 1e3, 0x1f): none is a metric name.
			for i < len(s) && (isPromQLIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		case isPromQLIdentChar(c):
			start := i
			for i < len(s) && isPromQLIdentChar(s[i]) {
				i++
			}
			word := s[start:i]
			next := i
			for next < len(s) && strings.IndexByte(" \t\n\r", s[next]) >= 0 {
				next++
			}
			opens := func(b byte) bool { return next < len(s) && s[next] == b }
			switch keyword := strings.ToLower(word); {
			case promQLGroupingKeywords[keyword]:
				if opens('(') {
					labels, _, end, err := scanPromQLList(s, next, '(', ')', false)
					if err != nil {
						return use, err
					}
					use.grouping = append(use.grouping, labels...)
					i = end
				}
			case promQLWords[keyword], opens('('):
				// A keyword, an aggregation or a function.
			default:
				selector := promQLSelector{metric: word}
				if opens('{') {
					labels, equal, end, err := scanPromQLList(s, next, '{', '}', true)
					if err != nil {
						return use, err
					}
					selector.labels, selector.equal = labels, equal
					i = end
				}
				use.selectors = append(use.selectors, selector)
			}
		default: // Operators, parentheses, commas.
			i++
		}
	}
	return use, nil
}

// scanPromQLList reads the list that opens at s[i]: label names, each with a
// matcher (an operator and a string) if matchers is set, separated by commas.
// It returns the names, the values of the = matchers (nil if none) and the
// offset past the closing byte.
func scanPromQLList(s string, i int, open, closing byte, matchers bool) ([]string, map[string]string, int, error) {
	var names []string
	var equal map[string]string
	i++ // open
	skipSpace := func() {
		for i < len(s) && strings.IndexByte(" \t\n\r", s[i]) >= 0 {
			i++
		}
	}
	for {
		skipSpace()
		if i < len(s) && s[i] == closing {
			return names, equal, i + 1, nil
		}
		start := i
		for i < len(s) && isPromQLIdentChar(s[i]) {
			i++
		}
		if i == start {
			return nil, nil, 0, fmt.Errorf("want a label name at offset %d of %q", i, s)
		}
		names = append(names, s[start:i])
		skipSpace()
		if matchers {
			op := ""
			for _, candidate := range []string{"=~", "!~", "!=", "="} {
				if strings.HasPrefix(s[i:], candidate) {
					op = candidate
					break
				}
			}
			if op == "" {
				return nil, nil, 0, fmt.Errorf("want a matcher after label %s at offset %d of %q", names[len(names)-1], i, s)
			}
			i += len(op)
			skipSpace()
			end, err := skipPromQLString(s, i)
			if err != nil {
				return nil, nil, 0, err
			}
			if value := s[i+1 : end-1]; op == "=" && !strings.Contains(value, "$") {
				if equal == nil {
					equal = map[string]string{}
				}
				equal[names[len(names)-1]] = value
			}
			i = end
			skipSpace()
		}
		switch {
		case i < len(s) && s[i] == ',':
			i++
		case i < len(s) && s[i] == closing:
		default:
			return nil, nil, 0, fmt.Errorf("unclosed %c at offset %d of %q", open, i, s)
		}
	}
}

// skipPromQLString returns the offset past the string literal at s[i]. In
// double and single quotes a backslash escapes the next byte; a backquoted
// string has no escapes.
func skipPromQLString(s string, i int) (int, error) {
	if i >= len(s) || strings.IndexByte("\"'`", s[i]) < 0 {
		return 0, fmt.Errorf("want a string at offset %d of %q", i, s)
	}
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote != '`':
			j++
		case s[j] == quote:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at offset %d of %q", i, s)
}

func isPromQLIdentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':'
}

func TestScanPromQL(t *testing.T) {
	tests := []struct {
		expr string
		want promQLUse
	}{
		{`up`, promQLUse{selectors: []promQLSelector{{metric: "up"}}}},
		{
			`histogram_quantile(0.99, sum by (le, verb) (rate(rest_client_request_duration_seconds_bucket{job="$job"}[$__rate_interval])))`,
			promQLUse{
				selectors: []promQLSelector{{metric: "rest_client_request_duration_seconds_bucket", labels: []string{"job"}}},
				grouping:  []string{"le", "verb"},
			},
		},
		{
			"(a{name=\"q\"} > 0)\nunless on (job, instance)\n(b{x!~'y,z}', w=~`\\d`} == 0) # b is \"not\" a{c=\"d\"}",
			promQLUse{
				selectors: []promQLSelector{{metric: "a", labels: []string{"name"}, equal: map[string]string{"name": "q"}}, {metric: "b", labels: []string{"x", "w"}}},
				grouping:  []string{"job", "instance"},
			},
		},
		{
			`max(x{job="a\"b"}) BY (job) < 1 or absent(x{job="c"}) and bool y offset 5m`,
			promQLUse{
				selectors: []promQLSelector{
					{metric: "x", labels: []string{"job"}, equal: map[string]string{"job": `a\"b`}},
					{metric: "x", labels: []string{"job"}, equal: map[string]string{"job": "c"}}, {metric: "y"}},
				grouping: []string{"job"},
			},
		},
		{
			`changes(process_start_time_seconds{job="${job}",}[30m:1m]) >= 3 * count without() (z)`,
			promQLUse{selectors: []promQLSelector{{metric: "process_start_time_seconds", labels: []string{"job"}}, {metric: "z"}}},
		},
	}
	for _, tt := range tests {
		got, err := scanPromQL(tt.expr)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("scanPromQL(%q) = %+v, %v; want %+v", tt.expr, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{__name__="up"}`, `x{job="a}`, `x{job}`, `sum by (job x)`, `rate(x[5m)`} {
		if got, err := scanPromQL(bad); err == nil {
			t.Errorf("scanPromQL(%q) = %+v, want an error", bad, got)
		}
	}
}
