package ags

import "strings"

// redactMark replaces a secret in anything shown to a caller.
const redactMark = "REDACTED"

// longSecret is the length from which a secret is masked wherever it
// occurs, even inside a longer word: no word of a server's message holds a
// token of that length by chance, and an echoed token may be glued to
// other characters (token%3D<token>).
const longSecret = 16

// maskSecrets returns s with each of secrets masked. A short secret (a
// password such as "admin") is masked only where it stands as a whole word,
// so "Another administrative operation" stays as the server wrote it; a
// long one wherever it occurs. Only text shown to a caller is masked: the
// decoder classifies an answer on the server's own words first.
func maskSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" || !strings.Contains(s, sec) {
			continue
		}
		if len(sec) >= longSecret {
			s = strings.ReplaceAll(s, sec, redactMark)
			continue
		}
		var b strings.Builder
		last := 0
		for start := 0; ; {
			i := strings.Index(s[start:], sec)
			if i < 0 {
				break
			}
			i += start
			end := i + len(sec)
			if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
				b.WriteString(s[last:i])
				b.WriteString(redactMark)
				last, start = end, end
			} else {
				start = i + 1
			}
		}
		b.WriteString(s[last:])
		s = b.String()
	}
	return s
}

// isWordByte reports whether c continues a word (an ASCII letter or digit,
// an underscore, or part of a multi-byte character).
func isWordByte(c byte) bool {
	return c == '_' || c >= 0x80 || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// secretMasker is a decoded answer holding the server's own words
// (job messages), which decode masks before anything reads them, in case
// the server echoed a credential.
type secretMasker interface {
	maskSecrets(secrets []string)
}

func (j *gpJobInfo) maskSecrets(secrets []string) {
	for i := range j.Messages {
		j.Messages[i].Description = maskSecrets(j.Messages[i].Description, secrets)
	}
	if j.Progress != nil {
		j.Progress.Message = maskSecrets(j.Progress.Message, secrets)
	}
}

func (s *TileJobStats) maskSecrets(secrets []string) {
	s.Message = maskSecrets(s.Message, secrets)
}

func (a *updateTilesAnswer) maskSecrets(secrets []string) {
	a.Message = maskSecrets(a.Message, secrets)
}

// secretParams are form fields whose values are credentials: a request
// that carries one is always a POST, and their values are masked in any
// error text.
var secretParams = [...]string{"token", "password"}

// isSecretParam reports whether a form field named k carries a credential,
// whatever the case of its name ("Password" too).
func isSecretParam(k string) bool {
	k = strings.TrimSpace(k)
	for _, s := range secretParams {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}
