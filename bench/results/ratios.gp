set terminal pngcairo size 1200,840 font ',10'
set output 'ratios.png'
set termoption noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel 'ratio (vsrouted ÷ reference)'
set yrange [0:*]
set xtics rotate by -25 scale 0
set key outside right top
set grid ytics
set multiplot layout 2,1
set title 'vsrouted ÷ nftables DNAT (first four: higher is better; (lower): lower is better)'
plot 'ratios.dat' index 0 using 2:xtic(1) title 'nft-xdp', 'ratios.dat' index 0 using 3 title 'floor', 'ratios.dat' index 0 using 4 title 'dr', 'ratios.dat' index 0 using 5 title 'nat', 'ratios.dat' index 0 using 6 title 'fullnat', 'ratios.dat' index 0 using 7 title 'tun', 'ratios.dat' index 0 using 8 title 'nat-w2', 1 with lines lw 2 lc rgb 'black' dt 2 title '1.0'
set title 'vsrouted ÷ HAProxy (first four: higher is better; (lower): lower is better)'
plot 'ratios.dat' index 1 using 2:xtic(1) title 'nft-xdp', 'ratios.dat' index 1 using 3 title 'floor', 'ratios.dat' index 1 using 4 title 'dr', 'ratios.dat' index 1 using 5 title 'nat', 'ratios.dat' index 1 using 6 title 'fullnat', 'ratios.dat' index 1 using 7 title 'tun', 'ratios.dat' index 1 using 8 title 'nat-w2', 1 with lines lw 2 lc rgb 'black' dt 2 title '1.0'
unset multiplot
