package tfdriver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LockReader is the part of the DynamoDB client ReadLock needs.
type LockReader interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// ReadLock reads the state lock item (LockID "<bucket>/<key>") straight from
// the DynamoDB table. It returns nil, nil when nobody holds the lock.
func ReadLock(ctx context.Context, db LockReader, table, lockID string) (*LockInfo, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"LockID": &types.AttributeValueMemberS{Value: lockID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read lock %s from DynamoDB table %s: %w", lockID, table, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	raw, ok := out.Item["Info"].(*types.AttributeValueMemberS)
	if !ok {
		// An item without Info is still a held lock; report what we know.
		return &LockInfo{Path: lockID}, nil
	}
	var li LockInfo
	if err := json.Unmarshal([]byte(raw.Value), &li); err != nil {
		return nil, fmt.Errorf("decode lock info of %s: %w", lockID, err)
	}
	if li.Path == "" {
		li.Path = lockID
	}
	return &li, nil
}
