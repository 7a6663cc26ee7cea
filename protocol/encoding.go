package protocol

import "bytes"

// Identity is the content coding of a response sent as it is.
const Identity = "identity"

// NegotiateEncoding picks a response's content coding from the request's
// Accept-Encoding (RFC 9110 section 12.5.3) among offered, the codings the
// server has for it in its own order of preference, with identity always
// available after them. present says whether the request had the field.
//
//   - No Accept-Encoding: identity (any coding would do; the plain form is
//     what every client understands).
//   - The highest q above 0 wins; equal q goes to the server's preference,
//     then identity. "*" stands for every coding the field does not name,
//     identity included.
//   - identity is acceptable unless "identity;q=0", or "*;q=0" without an
//     identity entry, says otherwise; not named, it comes after every
//     coding the field accepts.
//
// ok is false when nothing, identity included, is acceptable: the caller
// answers 406 or sends identity anyway. A malformed element is ignored.
func NegotiateEncoding(accept []byte, present bool, offered []string) (coding string, ok bool) {
	if !present {
		return Identity, true
	}
	const unset = -1
	star, identity := unset, unset
	var q [8]int // q of offered[i] in thousandths, for the first 8 offered
	for i := range q {
		q[i] = unset
	}
	for rest := accept; len(rest) > 0; {
		var elem []byte
		elem, rest, _ = bytes.Cut(rest, []byte(","))
		name, params, _ := bytes.Cut(elem, []byte(";"))
		name = trimOWS(name)
		if len(name) == 0 {
			continue
		}
		w, valid := qvalue(params)
		if !valid {
			continue
		}
		switch {
		case string(name) == "*":
			star = w
		case equalFold(name, Identity):
			identity = w
		default:
			for i, o := range offered {
				if i < len(q) && equalFold(name, o) {
					q[i] = w
				}
			}
		}
	}
	best, bestQ := "", 0
	for i, o := range offered {
		if i >= len(q) {
			break
		}
		w := q[i]
		if w == unset {
			w = star
		}
		if w > bestQ {
			best, bestQ = o, w
		}
	}
	idq := identity
	if idq == unset {
		idq = star // "*" covers identity too
		if star == unset {
			idq = 1 // acceptable unless refused, but after any coding the client names
		}
	}
	if best != "" && bestQ >= idq {
		return best, true
	}
	if idq > 0 {
		return Identity, true
	}
	return "", false
}

// qvalue reads the weight of an Accept-Encoding element from its
// parameters ("; q=0.5"), in thousandths; no q is 1000. valid is false for
// a q that is not a qvalue (RFC 9110 12.4.2).
func qvalue(params []byte) (int, bool) {
	params = trimOWS(params)
	if len(params) == 0 {
		return 1000, true
	}
	k, v, found := bytes.Cut(params, []byte("="))
	if !found || !equalFold(trimOWS(k), "q") {
		return 0, false
	}
	v = trimOWS(v)
	switch {
	case len(v) == 0 || len(v) > 5 || (v[0] != '0' && v[0] != '1'):
		return 0, false
	case len(v) > 1 && v[1] != '.':
		return 0, false
	}
	w := int(v[0]-'0') * 1000
	for i, scale := 2, 100; i < len(v); i, scale = i+1, scale/10 {
		if !isDigit(v[i]) || (v[0] == '1' && v[i] != '0') {
			return 0, false
		}
		w += int(v[i]-'0') * scale
	}
	return w, true
}
