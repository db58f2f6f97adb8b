// mlcost-validate checks rendered Kubernetes manifests offline, the way an API server would refuse them:
// each object is decoded strictly into its typed Go struct from k8s.io/api (or, for the Prometheus operator's
// monitoring.coreos.com kinds, from its own API module), so an unknown or misspelt field, a duplicate field or a
// value of the wrong type is an error; then a set of checks the API server's validation also makes (names,
// labels, selectors that match their template, volume mounts that name a volume, ...) runs on the result.
//
// Usage: mlcost-validate [-json] [file ...]   (no file, or "-", reads standard input: `helm template ... | mlcost-validate`)
// Exit status 0 when every object is valid, 1 when any is not, 2 on a usage or read error.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	serializerjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Result is what is reported for one object (one YAML document).
type Result struct {
	Source     string   `json:"source"`
	Document   int      `json:"document"`
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Name       string   `json:"name"`
	Errors     []string `json:"errors"`
}

func main() {
	asJSON := flag.Bool("json", false, "print one JSON array of results instead of lines")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mlcost-validate [-json] [file ...]  (no file or - reads standard input)")
		flag.PrintDefaults()
	}
	flag.Parse()

	validator := newValidator()
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	var results []Result
	for _, input := range inputs {
		data, err := readInput(input)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mlcost-validate: %v\n", err)
			os.Exit(2)
		}
		results = append(results, validator.validateStream(input, data)...)
	}

	failed := false
	for _, result := range results {
		if len(result.Errors) > 0 {
			failed = true
		}
	}
	if *asJSON {
		if results == nil {
			results = []Result{}
		}
		out, _ := json.MarshalIndent(results, "", "  ")
		fmt.Println(string(out))
	} else {
		for _, result := range results {
			id := fmt.Sprintf("%s/%s", result.Kind, result.Name)
			if len(result.Errors) == 0 {
				fmt.Printf("ok    %s\n", id)
				continue
			}
			for _, message := range result.Errors {
				fmt.Printf("error %s (%s, document %d): %s\n", id, result.Source, result.Document, message)
			}
		}
		fmt.Printf("%d object(s), %d invalid\n", len(results), countInvalid(results))
	}
	if failed {
		os.Exit(1)
	}
}

func countInvalid(results []Result) int {
	n := 0
	for _, result := range results {
		if len(result.Errors) > 0 {
			n++
		}
	}
	return n
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

type validator struct {
	scheme  *runtime.Scheme
	decoder *serializerjson.Serializer
}

func newValidator() *validator {
	scheme := runtime.NewScheme()
	for _, add := range builtinSchemes {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	if err := monitoringv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	decoder := serializerjson.NewSerializerWithOptions(
		serializerjson.DefaultMetaFactory, scheme, scheme,
		serializerjson.SerializerOptions{Yaml: true, Strict: true},
	)
	return &validator{scheme: scheme, decoder: decoder}
}

// validateStream splits a multi-document YAML stream and validates each non-empty document.
func (v *validator) validateStream(source string, data []byte) []Result {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var results []Result
	for index := 1; ; index++ {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			results = append(results, Result{Source: source, Document: index, Errors: []string{err.Error()}})
			break
		}
		if isEmptyDocument(document) {
			continue
		}
		results = append(results, v.validateDocument(source, index, document))
	}
	return results
}

func isEmptyDocument(document []byte) bool {
	for _, line := range strings.Split(string(document), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && trimmed != "---" && !strings.HasPrefix(trimmed, "#") {
			return false
		}
	}
	return true
}

func (v *validator) validateDocument(source string, index int, document []byte) Result {
	result := Result{Source: source, Document: index, Errors: []string{}}
	// The header first, leniently, so that a broken body still reports which object it is.
	var header struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(document, &header); err != nil {
		result.Errors = append(result.Errors, fmt.Sprintf("not a YAML object: %v", err))
		return result
	}
	result.APIVersion, result.Kind = header.APIVersion, header.Kind
	result.Name, result.Namespace = header.Metadata.Name, header.Metadata.Namespace
	if header.APIVersion == "" || header.Kind == "" {
		result.Errors = append(result.Errors, "apiVersion and kind are required")
		return result
	}
	gvk := schema.FromAPIVersionAndKind(header.APIVersion, header.Kind)
	if !v.scheme.Recognizes(gvk) {
		result.Errors = append(result.Errors, fmt.Sprintf(
			"%s %s is not a kind this validator knows (not served by Kubernetes %s nor monitoring.coreos.com/v1)",
			header.APIVersion, header.Kind, kubernetesRelease))
		return result
	}
	object, _, err := v.decoder.Decode(document, &gvk, nil)
	if err != nil {
		// Strict decoding errors (unknown or duplicate fields) come with the object; type errors without it.
		result.Errors = append(result.Errors, err.Error())
		if object == nil {
			return result
		}
	}
	result.Errors = append(result.Errors, checkObject(object)...)
	return result
}
