// What each area of the API contributes: routes, taggable resources, extensions.
import type { Route } from '../../../platform/http/types.ts';
import type { ExtensionInfo } from './extensions.ts';
import type { TaggableResource } from './tags.ts';

export interface ApiArea {
  routes: Route[];
  taggable: TaggableResource[];
  extensions: ExtensionInfo[];
}
