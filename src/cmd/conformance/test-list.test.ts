// Tests reading conformance lists and resolving them against Tempest's listing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  entriesFromIds,
  parseTempestListing,
  parseTestList,
  resolveList,
  selectByPrefix,
  testBaseName,
  testClassOf,
  testUuid,
} from './test-list.ts';

const TOKENS = 'tempest.api.identity.v3.test_tokens.TokensV3Test';
const LIST = `# interop 2022.11 (reconstructed), service area: identity
# one Tempest test id per line

${TOKENS}.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]
  ${TOKENS}.test_validate_token[id-a9512ac3-3909-48a4-b395-11f438e16260]
${TOKENS}.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]
tempest.api.network.test_routers.RoutersTest.test_update_router_unset_gateway[id-ad81b7ee-4f81-407b-a19c-17e623f763e8]
tempest.api.identity.v3.test_gone.GoneTest.test_gone[id-00000000-0000-4000-8000-000000000000]
`;

// As `tempest run --list-tests` prints them: attributes may carry more than the id.
const KNOWN = [
  `${TOKENS}.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]`,
  `${TOKENS}.test_validate_token[id-a9512ac3-3909-48a4-b395-11f438e16260,smoke]`,
  'tempest.api.network.admin.test_routers.RoutersIpV6AdminTest.test_update_router_unset_gateway[id-ad81b7ee-4f81-407b-a19c-17e623f763e8]',
  'tempest.api.network.admin.test_routers.RoutersAdminTest.test_update_router_unset_gateway[id-ad81b7ee-4f81-407b-a19c-17e623f763e8]',
  'tempest.api.identityx.test_other.OtherTest.test_x[id-11111111-1111-4111-8111-111111111111]',
  'tempest.api.identity.admin.v3.test_domains_negative.DomainsNegativeTestJSON.test_delete_active_domain[gate,id-1f3fbff5-4e44-400d-9ca1-d953f05f609b,negative]',
];

describe('test ids', () => {
  it('splits name, uuid and class', () => {
    const id = KNOWN[5]!;
    assert.equal(
      testBaseName(id),
      'tempest.api.identity.admin.v3.test_domains_negative.DomainsNegativeTestJSON.test_delete_active_domain',
    );
    assert.equal(testUuid(id), '1f3fbff5-4e44-400d-9ca1-d953f05f609b');
    assert.equal(
      testClassOf(id),
      'tempest.api.identity.admin.v3.test_domains_negative.DomainsNegativeTestJSON',
    );
    assert.equal(testUuid('a.b.C.test_x'), undefined);
    assert.equal(testBaseName('a.b.C.test_x'), 'a.b.C.test_x');
  });
});

describe('parseTestList', () => {
  it('skips comments and blank lines, trims, and drops duplicates', () => {
    const entries = parseTestList(LIST);
    assert.equal(entries.length, 4);
    assert.deepEqual(entries[1], {
      raw: `${TOKENS}.test_validate_token[id-a9512ac3-3909-48a4-b395-11f438e16260]`,
      name: `${TOKENS}.test_validate_token`,
      uuid: 'a9512ac3-3909-48a4-b395-11f438e16260',
    });
  });
});

describe('parseTempestListing', () => {
  it('keeps test ids and drops warnings', () => {
    const stdout = `WARNING: something deprecated is used\n${KNOWN[0]}\n\n${KNOWN[5]}\n`;
    assert.deepEqual(parseTempestListing(stdout), [KNOWN[0], KNOWN[5]]);
  });
});

describe('resolveList', () => {
  const resolved = resolveList(parseTestList(LIST), KNOWN);

  it('finds a test by its name whatever its attributes', () => {
    assert.deepEqual(
      resolved.slice(0, 2).map((r) => [r.how, r.tempestId]),
      [
        ['exact', KNOWN[0]],
        ['exact', KNOWN[1]],
      ],
    );
  });

  it('finds a moved test by its idempotent id, preferring the closest then shortest name', () => {
    assert.equal(resolved[2]!.how, 'uuid');
    assert.equal(resolved[2]!.tempestId, KNOWN[3]);
  });

  it('reports a test Tempest does not know as missing', () => {
    assert.equal(resolved[3]!.how, 'missing');
    assert.equal(resolved[3]!.tempestId, undefined);
  });
});

describe('selectByPrefix', () => {
  it('takes whole dotted components only', () => {
    assert.deepEqual(selectByPrefix(KNOWN, 'tempest.api.identity'), [KNOWN[0], KNOWN[1], KNOWN[5]]);
    assert.deepEqual(selectByPrefix(KNOWN, 'tempest.api.identity.'), [KNOWN[0], KNOWN[1], KNOWN[5]]);
    assert.deepEqual(selectByPrefix(KNOWN, `${TOKENS}.test_create_token`), [KNOWN[0]]);
    assert.deepEqual(selectByPrefix(KNOWN, 'tempest.api.ident'), []);
  });

  it('turns selected ids into entries that resolve exactly', () => {
    const ids = selectByPrefix(KNOWN, 'tempest.api.network');
    const resolved = resolveList(entriesFromIds(ids), KNOWN);
    assert.deepEqual(
      resolved.map((r) => [r.how, r.tempestId]),
      ids.map((id) => ['exact', id]),
    );
  });
});
