#!/bin/sh
# udhcpc event script: applies the lease, honouring classless static routes (option 121) and the MTU option.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = 0.0.0.0 ]; then
          ip route add "$1" dev "$interface" 2>/dev/null
        else
          ip route add "$1" via "$2" dev "$interface" 2>/dev/null
        fi
        shift 2
      done
    elif [ -n "$router" ]; then
      for r in $router; do ip route add default via "$r" dev "$interface" 2>/dev/null && break; done
    fi
    if [ -n "$dns" ]; then
      : >/run/resolv.conf
      for d in $dns; do echo "nameserver $d" >>/run/resolv.conf; done
    fi
    ;;
esac
exit 0
