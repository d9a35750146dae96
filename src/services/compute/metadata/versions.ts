// The metadata versions Nova serves: the EC2 dates and the OpenStack release dates, and the checks between them.

/** EC2-style metadata versions, oldest first ('latest' is the last). */
export const EC2_VERSIONS = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
] as const;

export const FOLSOM = '2012-08-10';
export const GRIZZLY = '2013-04-04';
export const HAVANA = '2013-10-17';
export const LIBERTY = '2015-10-15';
export const NEWTON_ONE = '2016-06-30';
export const NEWTON_TWO = '2016-10-06';
export const OCATA = '2017-02-22';
export const ROCKY = '2018-08-27';
export const VICTORIA = '2020-10-14';

/** OpenStack metadata versions, oldest first ('latest' is the last). */
export const OPENSTACK_VERSIONS = [
  FOLSOM,
  GRIZZLY,
  HAVANA,
  LIBERTY,
  NEWTON_ONE,
  NEWTON_TWO,
  OCATA,
  ROCKY,
  VICTORIA,
] as const;

/**
 * EC2 versions left off a config drive (Nova's config_drive_skip_versions default): only 2009-04-04 and latest
 * are written.
 */
export const CONFIG_DRIVE_SKIP_EC2 = new Set<string>([
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
]);

/** The EC2 version a request names ('latest' is the newest); undefined when unknown. */
export function ec2Version(v: string): string | undefined {
  if (v === 'latest') return EC2_VERSIONS[EC2_VERSIONS.length - 1];
  return (EC2_VERSIONS as readonly string[]).includes(v) ? v : undefined;
}

/** The OpenStack version a request names ('latest' is the newest); undefined when unknown. */
export function openstackVersion(v: string): string | undefined {
  if (v === 'latest') return OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1];
  return (OPENSTACK_VERSIONS as readonly string[]).includes(v) ? v : undefined;
}

/** Whether EC2 version `v` (resolved) is at least `required`. */
export function ec2AtLeast(v: string, required: string): boolean {
  const list = EC2_VERSIONS as readonly string[];
  return list.indexOf(v) >= list.indexOf(required);
}

/** Whether OpenStack version `v` (resolved, or 'latest') is at least `required`. */
export function osAtLeast(v: string, required: string): boolean {
  if (v === 'latest') return true;
  const list = OPENSTACK_VERSIONS as readonly string[];
  return list.indexOf(v) >= list.indexOf(required);
}
