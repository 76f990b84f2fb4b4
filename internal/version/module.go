package version

import "runtime/debug"

// unknownVersion stands for a module version the binary does not record.
const unknownVersion = "unknown"

// moduleVersion finds the version of the module at path among the
// dependencies recorded in buildInfo, which may be nil. A replaced module
// reports its replacement's version, as that is the code actually built in;
// a replacement by a local directory has none, so the required version is
// the best that can be said.
func moduleVersion(buildInfo *debug.BuildInfo, path string) string {
	if buildInfo == nil {
		return unknownVersion
	}
	for _, dep := range buildInfo.Deps {
		if dep.Path != path {
			continue
		}
		if dep.Replace != nil && dep.Replace.Version != "" {
			return dep.Replace.Version
		}
		if dep.Version != "" {
			return dep.Version
		}
		return unknownVersion
	}
	return unknownVersion
}
