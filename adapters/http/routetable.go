package httpadapter

import (
	"slices"
	"strings"
)

// allowMethods lists the methods some route takes for path, from s.allow (route pattern →
// methods), for a 405's Allow and a CORS preflight; nil means no route has the path. It
// matches as the router does with this app's settings: case-sensitive, trailing slashes
// ignored, and a ":name" segment standing for any one non-empty segment. Methods of every
// matching route count: PUT /api/credentials/store reaches the ":id" route.
func (s *Server) allowMethods(path string) []string {
	segs := splitPath(path)
	var out []string
	for pattern, methods := range s.allow {
		if matchSegments(splitPath(pattern), segs) {
			for _, m := range methods {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return methodRank(a) - methodRank(b) })
	return out
}

// methodOrder is the order methods are listed in.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

func methodRank(m string) int {
	if i := slices.Index(methodOrder, m); i >= 0 {
		return i
	}
	return len(methodOrder)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func matchSegments(pattern, path []string) bool {
	if len(pattern) != len(path) {
		return false
	}
	for i, seg := range pattern {
		if strings.HasPrefix(seg, ":") {
			if path[i] == "" {
				return false
			}
		} else if seg != path[i] {
			return false
		}
	}
	return true
}
