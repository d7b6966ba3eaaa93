package httpadapter

import (
	"bytes"
	"encoding/json"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// checkStrictJSON refuses two things encoding/json accepts silently, so that a body cannot
// mean one thing to this service and another to whatever else reads it:
//   - an object naming a member twice: encoding/json keeps the last one, and matches names
//     case-insensitively, so names equal up to case count as the same name;
//   - a \u escape of an unpaired surrogate, which encoding/json turns into U+FFFD.
//
// body must already be valid JSON (json.Valid): the scan relies on it.
func checkStrictJSON(body []byte) error {
	type member struct {
		object int
		name   string
	}
	var (
		seen      map[member]struct{}
		open      []int // per open container: its object number, or 0 for an array
		objects   int
		expectKey bool
	)
	for i := 0; i < len(body); {
		switch body[i] {
		case '{':
			objects++
			open = append(open, objects)
			expectKey = true
			i++
		case '[':
			open = append(open, 0)
			expectKey = false
			i++
		case '}', ']':
			open = open[:len(open)-1]
			expectKey = false
			i++
		case ',':
			expectKey = len(open) > 0 && open[len(open)-1] != 0
			i++
		case '"':
			end, escaped, ok := scanString(body, i)
			if !ok {
				return &clientError{errMalformedJSON, "The request body contains an escaped unpaired surrogate, which is not a character."}
			}
			if expectKey {
				if seen == nil {
					seen = make(map[member]struct{}, 8)
				}
				m := member{open[len(open)-1], foldedName(body[i:end], escaped)}
				if _, dup := seen[m]; dup {
					return &clientError{errMalformedJSON, "The request body names the same member twice in one object."}
				}
				seen[m] = struct{}{}
				expectKey = false
			}
			i = end
		default:
			i++
		}
	}
	return nil
}

// scanString returns the index just past the JSON string starting at body[start] (its
// opening quote), whether it holds escapes, and false if it escapes an unpaired surrogate.
func scanString(body []byte, start int) (end int, escaped, ok bool) {
	for i := start + 1; i < len(body); {
		j := bytes.IndexAny(body[i:], `"\`)
		i += j // valid JSON: the string is closed, so j >= 0
		if body[i] == '"' {
			return i + 1, escaped, true
		}
		escaped = true
		if body[i+1] != 'u' {
			i += 2
			continue
		}
		r := hex4(body[i+2 : i+6])
		i += 6
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00: // high: a low one must follow
			if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
				return 0, false, false
			}
			if low := hex4(body[i+2 : i+6]); low < 0xdc00 || low > 0xdfff {
				return 0, false, false
			}
			i += 6
		case utf16.IsSurrogate(r): // a low one on its own
			return 0, false, false
		}
	}
	return len(body), escaped, true // unreachable for valid JSON
}

// hex4 decodes the four hex digits of a \u escape (valid JSON guarantees them).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// foldedName is a member name (quoted, as in the body) folded the way encoding/json
// matches names to fields: two names fold alike exactly when bytes.EqualFold holds.
func foldedName(quoted []byte, escaped bool) string {
	raw := quoted[1 : len(quoted)-1]
	if escaped {
		var s string
		_ = json.Unmarshal(quoted, &s) // valid JSON string: cannot fail
		raw = []byte(s)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if c := raw[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

// foldRune is the smallest rune of r's case-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
