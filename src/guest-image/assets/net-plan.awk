# Reads flattened network_data.json (json-flat.awk output) and prints the plan for the NIC whose MAC is `mac`:
# "mtu N", "addr A.B.C.D/P", "route NET/P GW", "dns A.B.C.D" lines for a static IPv4 network, or "dhcp".
BEGIN { FS = "\t"; mac = tolower(mac) }

{
  key = $1; val = substr($0, length($1) + 2)
  split(key, p, ".")
  if (p[1] == "links" && p[3] == "ethernet_mac_address") linkmac[p[2]] = tolower(val)
  else if (p[1] == "links" && p[3] == "id") linkid[p[2]] = val
  else if (p[1] == "links" && p[3] == "mtu") linkmtu[p[2]] = val
  else if (p[1] == "networks" && p[3] == "link") netlink[p[2]] = val
  else if (p[1] == "networks" && p[3] == "type") nettype[p[2]] = val
  else if (p[1] == "networks" && p[3] == "ip_address") netip[p[2]] = val
  else if (p[1] == "networks" && p[3] == "netmask") netmask[p[2]] = val
  else if (p[1] == "networks" && p[3] == "routes" && p[5] == "network") rnet[p[2], p[4]] = val
  else if (p[1] == "networks" && p[3] == "routes" && p[5] == "netmask") rmask[p[2], p[4]] = val
  else if (p[1] == "networks" && p[3] == "routes" && p[5] == "gateway") rgw[p[2], p[4]] = val
  else if (p[1] == "services" && p[3] == "address") dns[p[2]] = val
  else if (p[1] == "services" && p[3] == "type") dnstype[p[2]] = val
  if (p[1] == "networks" && p[3] == "routes" && p[4] + 1 > nroutes[p[2]]) nroutes[p[2]] = p[4] + 1
}

function ipv4(a) { return a ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ }

function prefix(mask,   o, i, bits, b) {
  if (mask ~ /^[0-9]+$/) return mask
  if (!ipv4(mask)) return -1
  split(mask, o, ".")
  bits = 0
  for (i = 1; i <= 4; i++) {
    b = o[i] + 0
    while (b > 0) { bits += b % 2; b = int(b / 2) }
  }
  return bits
}

END {
  id = ""
  for (l in linkmac) if (linkmac[l] == mac) { id = linkid[l]; if (linkmtu[l] ~ /^[0-9]+$/) print "mtu " linkmtu[l] }
  static = 0
  if (id != "") {
    for (k in netlink) {
      if (netlink[k] != id || nettype[k] != "ipv4" || !ipv4(netip[k])) continue
      pl = prefix(netmask[k])
      if (pl < 0 || pl > 32) continue
      print "addr " netip[k] "/" pl
      static = 1
      for (r = 0; r < nroutes[k]; r++) {
        if (!ipv4(rnet[k, r]) || !ipv4(rgw[k, r])) continue
        rp = prefix(rmask[k, r])
        if (rp < 0 || rp > 32) continue
        print "route " rnet[k, r] "/" rp " " rgw[k, r]
      }
    }
  }
  if (!static) { print "dhcp"; exit }
  for (d in dns) if (dnstype[d] == "dns" && ipv4(dns[d])) print "dns " dns[d]
}
