package statebackend

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/challengectl/challengectl/internal/clierr"
)

var (
	bucketChars = regexp.MustCompile(`^[a-z0-9.-]+$`)
	tableChars  = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	// ipShaped matches four dot-separated groups of 1-3 digits, which S3
	// refuses even when a group is above 255 (e.g. 192.168.5.400).
	ipShaped = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`)
)

// Prefixes and suffixes S3 reserves for its own features (access points,
// Object Lambda, Multi-Region Access Points, directory and table buckets, the
// documentation examples, punycode).
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "sthree-configurator", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

const bucketFix = "choose another name: 3-63 lowercase letters, digits, hyphens or dots, starting and ending with a letter or digit"

// ValidateBucketName checks name against S3's general-purpose bucket naming
// rules. The usage error names --bucket and the rule that failed.
func ValidateBucketName(name string) error {
	bad := func(rule string) error {
		return clierr.Usage("--bucket", fmt.Sprintf("%q is not a valid S3 bucket name: %s", name, rule), bucketFix)
	}
	switch {
	case name == "":
		return clierr.Usage("--bucket", "no state bucket name given", "pass --bucket NAME or set TF_STATE_BUCKET")
	case len(name) < 3 || len(name) > 63:
		return bad(fmt.Sprintf("it must be 3 to 63 characters long (it has %d)", len(name)))
	case !bucketChars.MatchString(name):
		return bad("only lowercase letters, digits, hyphens (-) and dots (.) are allowed")
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return bad("it must start and end with a lowercase letter or a digit")
	case strings.Contains(name, ".."):
		return bad("it must not contain two adjacent dots")
	case ipShaped.MatchString(name) || isIPAddr(name):
		return bad("it must not be formatted as an IP address")
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return bad(fmt.Sprintf("the prefix %q is reserved by S3", p))
		}
	}
	for _, s := range reservedBucketSuffixes {
		if strings.HasSuffix(name, s) {
			return bad(fmt.Sprintf("the suffix %q is reserved by S3", s))
		}
	}
	return nil
}

// ValidateTableName checks name against DynamoDB's table naming rules. The
// usage error names --table and the rule that failed.
func ValidateTableName(name string) error {
	bad := func(rule string) error {
		return clierr.Usage("--table", fmt.Sprintf("%q is not a valid DynamoDB table name: %s", name, rule),
			"choose 3-255 letters, digits, underscores (_), hyphens (-) or dots (.)")
	}
	switch {
	case name == "":
		return clierr.Usage("--table", "no lock table name given", "pass --table NAME or set TF_STATE_TABLE")
	case len(name) < 3 || len(name) > 255:
		return bad(fmt.Sprintf("it must be 3 to 255 characters long (it has %d)", len(name)))
	case !tableChars.MatchString(name):
		return bad("only letters, digits, underscores (_), hyphens (-) and dots (.) are allowed")
	}
	return nil
}

func isAlnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

func isIPAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
