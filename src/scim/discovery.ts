/**
 * The discovery resources (RFC 7644 §4, RFC 7643 §5–7): what this service provider
 * supports, said truthfully, so a directory does not try what will be refused:
 * Users and Groups, no Bulk, no sorting.
 */
import { GROUP_SCHEMA, MAX_GROUP_NAME, MAX_MEMBERS_PER_REQUEST } from './group-resource.js';
import { USER_SCHEMA } from './user-resource.js';
import { MAX_COUNT } from './users.js';

const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A client-credentials access token with the scim scope, from a client the instance operator allowed it (warta client set-scim).',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A person of the organisation',
      schema: USER_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group of the organisation and the people directly in it',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

const attribute = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

export function schemas(baseUrl: string) {
  return [
    {
      schemas: [SCHEMA_SCHEMA],
      id: USER_SCHEMA,
      name: 'User',
      description: 'A person of the organisation, as Warta keeps them',
      attributes: [
        attribute('userName', { required: true, uniqueness: 'server', description: 'The Warta sign-in name: an e-mail address, or an employee id (letters, digits, dot, dash, underscore).' }),
        attribute('name', {
          type: 'complex',
          subAttributes: [attribute('formatted', { mutability: 'readWrite' }), attribute('familyName'), attribute('givenName')],
        }),
        attribute('displayName'),
        attribute('emails', {
          type: 'complex',
          multiValued: true,
          description: 'Warta keeps one work address, the primary one; it must be in the organisation\'s e-mail domains.',
          subAttributes: [attribute('value'), attribute('type', { canonicalValues: ['work'] }), attribute('primary', { type: 'boolean' })],
        }),
        attribute('active', { type: 'boolean', description: 'false disables the person: sessions end and tokens are revoked.' }),
        attribute('password', { mutability: 'writeOnly', returned: 'never', description: 'Not accepted: people enrol their own credentials through their invitation.' }),
      ],
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${USER_SCHEMA}` },
    },
    {
      schemas: [SCHEMA_SCHEMA],
      id: GROUP_SCHEMA,
      name: 'Group',
      description: 'A group of the organisation; one a directory creates is at the top of the hierarchy, and an admin may move it',
      attributes: [
        attribute('displayName', { required: true, description: `The group's name: at most ${MAX_GROUP_NAME} characters, no "/"; unique among the groups under the same parent (case-insensitively).` }),
        attribute('members', {
          type: 'complex',
          multiValued: true,
          description: `The people directly in the group, of the same organisation; at most ${MAX_MEMBERS_PER_REQUEST} member values in one request.`,
          subAttributes: [
            attribute('value', { mutability: 'immutable', description: "A user's id" }),
            attribute('$ref', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable' }),
            attribute('display', { mutability: 'readOnly' }),
            attribute('type', { mutability: 'immutable', canonicalValues: ['User'] }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${GROUP_SCHEMA}` },
    },
  ];
}
