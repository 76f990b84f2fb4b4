package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/domac/crddemo/pkg/apis/crddemo"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

func loadCRD(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile("crd/mydemo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		t.Fatalf("crd/mydemo.yaml: %v", err)
	}
	return crd
}

// TestCRDMatchesGoTypes keeps the hand-written CRD in step with the Go API
// types that the generated clients are built from.
func TestCRDMatchesGoTypes(t *testing.T) {
	crd := loadCRD(t)
	if crd.Spec.Group != crddemo.GroupName || crd.Name != "mydemos."+crddemo.GroupName {
		t.Errorf("CRD group %q, name %q; want group %q", crd.Spec.Group, crd.Name, crddemo.GroupName)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != crddemov1.SchemeGroupVersion.Version {
		t.Fatalf("CRD versions = %+v, want only %s", crd.Spec.Versions, crddemov1.SchemeGroupVersion.Version)
	}
	if kind := reflect.TypeFor[crddemov1.Mydemo]().Name(); crd.Spec.Names.Kind != kind ||
		crd.Spec.Names.ListKind != kind+"List" || crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("CRD names %+v, scope %s; want kind %s, namespaced", crd.Spec.Names, crd.Spec.Scope, kind)
	}
	if crd.Spec.Versions[0].Subresources == nil || crd.Spec.Versions[0].Subresources.Status == nil {
		t.Errorf("CRD has no status subresource, which UpdateStatus needs")
	}

	// Each schema description is the Go doc comment of the type or field.
	docs := goDocComments(t, "pkg/apis/crddemo/v1/types.go")
	root := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	spec, status := root.Properties["spec"], root.Properties["status"]
	for doc, schema := range map[string]apiextensionsv1.JSONSchemaProps{
		"Mydemo":                          *root,
		"Mydemo.Spec":                     spec,
		"Mydemo.Status":                   status,
		"MydemoSpec.IP":                   spec.Properties["ip"],
		"MydemoSpec.Port":                 spec.Properties["port"],
		"MydemoStatus.ObservedGeneration": status.Properties["observedGeneration"],
		"MydemoStatus.Conditions":         status.Properties["conditions"],
	} {
		if docs[doc] == "" {
			t.Errorf("types.go has no doc comment for %s", doc)
		}
		if schema.Description != docs[doc] {
			t.Errorf("CRD description for %s = %q, want its Go doc comment %q", doc, schema.Description, docs[doc])
		}
	}
}

// goDocComments maps "Type" and "Type.Field" to their doc comments, each
// folded onto one line as the CRD writes it.
func goDocComments(t *testing.T, path string) map[string]string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	fold := func(g *ast.CommentGroup) string { return strings.Join(strings.Fields(g.Text()), " ") }
	docs := map[string]string{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		spec := gen.Specs[0].(*ast.TypeSpec)
		docs[spec.Name.Name] = fold(gen.Doc)
		for _, field := range spec.Type.(*ast.StructType).Fields.List {
			if len(field.Names) == 1 && field.Doc != nil {
				docs[spec.Name.Name+"."+field.Names[0].Name] = fold(field.Doc)
			}
		}
	}
	return docs
}
