// Package validate carries the API's field-level errors and its strict JSON decoding, so that
// every 400 response names the field at fault in one notation: "strategies[1].symbol".
package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is a client error about one field. Field is empty when the whole body is at fault.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns an *Error for field.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Join appends a field name to a path: Join("strategies[0]", "name") is "strategies[0].name".
func Join(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "":
		return path
	default:
		return path + "." + field
	}
}

// DecodeJSON decodes exactly one JSON value from r into v. Unknown object fields are errors
// unless allowUnknown. Malformed input becomes an *Error whose Field is prefixed by path;
// an *http.MaxBytesError from the reader is returned as is.
//
// encoding/json reports an unknown field by its bare name, so the reported path is only right
// for fields of the top-level object: strict callers with nested objects decode one level at
// a time into json.RawMessage (as config.DecodeJSON does).
func DecodeJSON(r io.Reader, v any, path string, allowUnknown bool) error {
	dec := json.NewDecoder(r)
	if !allowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err, path)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return Errorf(path, "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error, path string) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &typeErr):
		return Errorf(Join(path, typeErr.Field), "must be %s, got JSON %s", describe(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return Errorf(path, "malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.Is(err, io.EOF):
		return Errorf(path, "request body is empty, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(path, "malformed JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the message is stable since Go 1.10.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Errorf(Join(path, name), "unknown field")
	default:
		// For example a time that is not RFC 3339, reported by time.Time's UnmarshalJSON.
		return Errorf(path, "invalid JSON: %v", err)
	}
}

func describe(goType string) string {
	switch {
	case strings.HasPrefix(goType, "*"):
		return describe(goType[1:])
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a number"
	case goType == "time.Time":
		return "an RFC 3339 time string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default: // maps and structs
		return "an object"
	}
}
