/**
 * Whether a document selects a given field of a given type, so the transport can tell a feed
 * what its events will need (task contents read ahead). Answered once per document object:
 * the document cache hands every subscriber of the same text the same object.
 */
import { BREAK, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';

/**
 * `(document) => boolean`: does any operation or fragment of the (valid) document select
 * `typeName.fieldName`? A fragment no operation uses counts too: at worst, work read ahead
 * that nobody needed.
 */
export function createFieldSelectionCheck(schema: GraphQLSchema, typeName: string, fieldName: string): (document: DocumentNode) => boolean {
  const answers = new WeakMap<DocumentNode, boolean>();
  return (document) => {
    let selects = answers.get(document);
    if (selects === undefined) {
      selects = false;
      const typeInfo = new TypeInfo(schema);
      visit(
        document,
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            if (node.name.value !== fieldName || typeInfo.getParentType()?.name !== typeName) return undefined;
            selects = true;
            return BREAK;
          },
        }),
      );
      answers.set(document, selects);
    }
    return selects;
  };
}
