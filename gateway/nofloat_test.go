package gateway

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFloatingPoint proves that the domain package's own code never holds a
// binary floating-point or complex value: it type-checks every non-test file
// and fails on any expression, declaration or literal of type float32,
// float64, complex64 or complex128 (including untyped float constants), so no
// money path can lose a cent to float rounding.
func TestNoFloatingPoint(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "gateway" {
			continue
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	conf := types.Config{Importer: importer.Default()}
	if _, err := conf.Check("github.com/coverbridge/coverbridge/gateway", fset, files, info); err != nil {
		t.Fatalf("type-check: %v", err)
	}
	isFloat := func(typ types.Type) bool {
		found := false
		var walk func(types.Type, int)
		walk = func(typ types.Type, depth int) {
			if typ == nil || found || depth > 8 {
				return
			}
			switch u := typ.(type) {
			case *types.Basic:
				found = u.Info()&(types.IsFloat|types.IsComplex) != 0
			case *types.Named:
				if u.Obj().Pkg() != nil && u.Obj().Pkg().Path() != "github.com/coverbridge/coverbridge/gateway" {
					return // other packages' types are opaque: only their use here matters
				}
				walk(u.Underlying(), depth+1)
			case *types.Pointer:
				walk(u.Elem(), depth+1)
			case *types.Slice:
				walk(u.Elem(), depth+1)
			case *types.Array:
				walk(u.Elem(), depth+1)
			case *types.Map:
				walk(u.Key(), depth+1)
				walk(u.Elem(), depth+1)
			case *types.Struct:
				for i := range u.NumFields() {
					walk(u.Field(i).Type(), depth+1)
				}
			case *types.Signature:
				for i := range u.Params().Len() {
					walk(u.Params().At(i).Type(), depth+1)
				}
				for i := range u.Results().Len() {
					walk(u.Results().At(i).Type(), depth+1)
				}
			}
		}
		walk(typ, 0)
		return found
	}
	var bad []string
	report := func(pos token.Pos, what string) {
		bad = append(bad, fset.Position(pos).String()+": "+what)
	}
	for expr, tv := range info.Types {
		if tv.IsType() {
			if isFloat(tv.Type) {
				report(expr.Pos(), "floating-point type "+tv.Type.String())
			}
			continue
		}
		if isFloat(tv.Type) {
			report(expr.Pos(), "floating-point value of type "+tv.Type.String())
		}
	}
	for id, obj := range info.Defs {
		if obj != nil && isFloat(obj.Type()) {
			report(id.Pos(), "declares "+id.Name+" of floating-point type "+obj.Type().String())
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && (lit.Kind == token.FLOAT || lit.Kind == token.IMAG) {
				report(lit.Pos(), "floating-point literal "+lit.Value)
			}
			return true
		})
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// TestNoFloatingPointCatches makes sure the check above would notice a float.
func TestNoFloatingPointCatches(t *testing.T) {
	src := "package gateway\nfunc share(a int64) int64 { return int64(float64(a) * 0.008) }\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	if _, err := (&types.Config{}).Check("x", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tv := range info.Types {
		if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsFloat != 0 {
			n++
		}
	}
	if n == 0 {
		t.Fatal("float expressions not visible to the type checker")
	}
}
